// The team: members and their roles, invitations, and (with members:write) changing a role, disabling,
// removing, or ending someone's sessions. The server enforces every rule (the last owner, who may grant
// ownership); its problem is shown next to the action that caused it.
import type { Invite, Member, Role } from '@parley/protocol';
import { ROLE_DESCRIPTIONS, ROLES } from '@parley/protocol/constants';
import { useRef, useState } from 'preact/hooks';
import type { ViewProps } from '../app.js';
import { ProblemView, ScrollingTable, useAction, useLoad, When } from '../components.js';
import { GatedStatus, useGated } from '../gated.js';

/** The roles the viewer may hand out: only an owner grants ownership. */
export const grantableRoles = (viewer: string | undefined): readonly Role[] => (viewer === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner'));

function MfaBadges({ mfa }: { mfa: Member['mfa'] }) {
  if (!mfa.totp && !mfa.passkeys) return <span class="badge warn">no MFA</span>;
  return (
    <>
      {mfa.totp ? <span class="badge ok-badge">TOTP</span> : null}{' '}
      {mfa.passkeys ? <span class="badge ok-badge">{mfa.passkeys === 1 ? '1 passkey' : `${mfa.passkeys} passkeys`}</span> : null}
    </>
  );
}

function MemberRow({
  member,
  me,
  canWrite,
  api,
  onChanged,
}: {
  member: Member;
  me: ViewProps['me'];
  canWrite: boolean;
  api: ViewProps['api'];
  onChanged: () => void;
}) {
  const action = useAction();
  // Making someone an admin, or resetting an admin's SSO link, waits for another admin's approval where the tenant asks for it.
  const patched = useGated(api, onChanged);
  const [notice, setNotice] = useState('');
  const self = me.member?.id === member.id;
  const roles = grantableRoles(me.member?.role);
  // An admin cannot change an owner's role (the server refuses); show the select only where it can work.
  const roleEditable = canWrite && (me.member?.role === 'owner' || member.role !== 'owner');
  // While one change runs the row's controls say so (aria-disabled, keeping the focus) and do nothing.
  const busy = action.busy || patched.busy;
  const patch = (body: { role?: Role; status?: Member['status'] }) => {
    if (!busy) void patched.send('PATCH', `/members/${member.id}`, body);
  };
  const disable = () => {
    if (busy) return;
    const ask = self
      ? 'Disable your own account? You are signed out at once and cannot sign in again until another owner or admin enables you.'
      : `Disable ${member.displayName} (${member.email})? Their sessions end at once, their open invitations are revoked, and they cannot sign in until enabled again.`;
    if (confirm(ask)) patch({ status: 'disabled' });
  };
  const remove = () => {
    if (busy) return;
    if (
      !confirm(
        `Remove ${member.displayName} (${member.email}) from the team? Their sessions end at once, and their open invitations and the API keys they made are revoked.`,
      )
    )
      return;
    void action.run(async () => {
      await api('DELETE', `/members/${member.id}`);
      onChanged();
    });
  };
  const resetMfa = () => {
    if (busy) return;
    if (
      !confirm(
        `Reset the second factors of ${member.displayName}? Their authenticator app, passkeys and recovery codes stop working; they set up new ones at their next sign-in if the team requires it.`,
      )
    )
      return;
    void action.run(async () => {
      await api('DELETE', `/members/${member.id}/mfa`);
      onChanged();
    });
  };
  const resetSso = () => {
    if (busy) return;
    if (
      !confirm(
        `Reset the single sign-on link of ${member.displayName}? Their sessions end, and their next SSO sign-in links whichever account at your identity provider carries ${member.email}.`,
      )
    )
      return;
    // An owner's or admin's link waits for another admin's approval where the tenant asks for it.
    void patched.send('DELETE', `/members/${member.id}/sso-link`);
  };
  const endSessions = () => {
    if (busy) return;
    void action.run(async () => {
      const r = await api<{ ended?: number }>('DELETE', `/members/${member.id}/sessions`);
      setNotice(typeof r?.ended === 'number' ? `${r.ended} session${r.ended === 1 ? '' : 's'} ended.` : 'Sessions ended.');
    });
  };
  return (
    <>
      <tr>
        <td>
          {member.displayName}
          {self ? <span class="muted"> (you)</span> : null}
        </td>
        <td class="mono">{member.email}</td>
        <td>
          {roleEditable ? (
            <select
              aria-label={`Role of ${member.displayName}`}
              value={member.role}
              aria-disabled={busy}
              onChange={(e) => {
                if (busy) e.currentTarget.value = member.role;
                else patch({ role: e.currentTarget.value as Role });
              }}
            >
              {(roles.includes(member.role) ? roles : [member.role, ...roles]).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          ) : (
            member.role
          )}
        </td>
        <td>
          <span class={`badge ${member.status}`}>{member.status}</span>
        </td>
        <td>
          <MfaBadges mfa={member.mfa} />
        </td>
        <td>
          <When iso={member.lastSignInAt} />
        </td>
        {canWrite ? (
          <td class="actions">
            <button
              type="button"
              class="small secondary"
              aria-disabled={busy}
              onClick={() => (member.status === 'active' ? disable() : patch({ status: 'active' }))}
            >
              {member.status === 'active' ? 'Disable' : 'Enable'}
            </button>
            {!self && (member.mfa.totp || member.mfa.passkeys > 0) ? (
              <button type="button" class="small secondary" aria-disabled={busy} onClick={resetMfa}>
                Reset MFA
              </button>
            ) : null}
            {!self && member.sso.length ? (
              <button type="button" class="small secondary" aria-disabled={busy} onClick={resetSso}>
                Reset SSO link
              </button>
            ) : null}
            <button type="button" class="small secondary" aria-disabled={busy} onClick={endSessions}>
              End sessions
            </button>
            <button type="button" class="small danger" aria-disabled={busy} onClick={remove}>
              Remove
            </button>
          </td>
        ) : null}
      </tr>
      {action.problem || patched.problem || patched.gate.step !== 'idle' || notice ? (
        <tr class="row-problem">
          <td colSpan={canWrite ? 7 : 6}>
            <ProblemView problem={action.problem ?? patched.problem} />
            <GatedStatus gated={patched} />
            {notice ? (
              <p class="muted" role="status">
                {notice}
              </p>
            ) : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}

function Invites({ api, reloadKey }: ViewProps & { reloadKey: number }) {
  const list = useLoad(() => api<{ invites: Invite[] }>('GET', '/invites'), [reloadKey]);
  const action = useAction();
  const [copied, setCopied] = useState<string | null>(null);
  const open = list.data?.invites.filter((i) => !i.acceptedAt && !i.revokedAt && new Date(i.expiresAt) > new Date()) ?? [];
  const copy = async (i: Invite) => {
    try {
      await navigator.clipboard.writeText(i.inviteUrl!);
      setCopied(i.id);
    } catch {
      setCopied(null);
    }
  };
  const revoke = (i: Invite) =>
    void action.run(async () => {
      await api('DELETE', `/invites/${i.id}`);
      list.reload();
    });
  return (
    <section aria-labelledby="invites-title">
      <h2 id="invites-title">Open invitations</h2>
      <ProblemView problem={list.problem} />
      {list.data && !open.length ? <p class="muted">No open invitation.</p> : null}
      {open.length ? (
        <ScrollingTable label="Open invitations">
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Expires</th>
              <th>Link</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {open.map((i) => (
              <tr key={i.id}>
                <td class="mono">{i.email}</td>
                <td>{i.role}</td>
                <td>
                  <When iso={i.expiresAt} />
                </td>
                <td>
                  {i.inviteUrl ? (
                    <>
                      <button type="button" class="small secondary" onClick={() => void copy(i)}>
                        Copy link
                      </button>
                      <span class="muted" aria-live="polite">
                        {copied === i.id ? ' Copied.' : ''}
                      </span>
                    </>
                  ) : (
                    <span class="muted">{i.delivery === 'smtp' ? 'sent by email' : 'link with whoever sent it'}</span>
                  )}
                </td>
                <td class="actions">
                  <button type="button" class="small danger" aria-disabled={action.busy} onClick={() => revoke(i)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </ScrollingTable>
      ) : null}
      {open.some((i) => i.inviteUrl) ? (
        <p class="muted">No email server is configured, so invitation links are shown here: send them to the person yourself.</p>
      ) : null}
      <ProblemView problem={action.problem} />
    </section>
  );
}

export function TeamView({ api, me }: ViewProps) {
  const canWrite = me.capabilities.includes('members:write');
  const members = useLoad(() => api<{ members: Member[] }>('GET', '/members'));
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [invitesKey, setInvitesKey] = useState(0);
  const [sent, setSent] = useState<Invite | null>(null);
  // Inviting an admin waits for another admin's approval where the tenant asks for it.
  const sentRef = useRef<HTMLParagraphElement>(null);
  // Sent, the emptied form's button is disabled: the focus goes to what was done.
  const invite = useGated<{ invite: Invite }>(
    api,
    (r) => {
      setSent(r.invite);
      setEmail('');
      setInvitesKey((n) => n + 1);
    },
    { focus: () => sentRef.current },
  );
  const submit = (e: Event) => {
    e.preventDefault();
    setSent(null);
    void invite.send('POST', '/invites', { email: email.trim(), role });
  };
  return (
    <div class="team">
      <section aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <ProblemView problem={members.problem} />
        {members.data ? (
          <ScrollingTable label="Member list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Status</th>
                <th>MFA</th>
                <th>Last sign-in</th>
                {canWrite ? (
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {members.data.members.map((m) => (
                <MemberRow key={m.id} member={m} me={me} canWrite={canWrite} api={api} onChanged={members.reload} />
              ))}
            </tbody>
          </ScrollingTable>
        ) : null}
      </section>
      {canWrite ? (
        <>
          <form onSubmit={submit} class="card" aria-labelledby="invite-title">
            <h2 id="invite-title">Invite someone</h2>
            <label for="invite-email">Email</label>
            <input id="invite-email" type="email" autoComplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />
            <label for="invite-role">Role</label>
            <select id="invite-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} aria-describedby="invite-role-help">
              {grantableRoles(me.member?.role).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <p id="invite-role-help" class="muted">
              {ROLE_DESCRIPTIONS[role]}
            </p>
            <button type="submit" disabled={invite.gate.step === 'waiting' || !email.trim()} aria-disabled={invite.busy}>
              Send invitation
            </button>
            <GatedStatus gated={invite} />
            {sent ? (
              <p role="status" tabIndex={-1} ref={sentRef}>
                Invitation for {sent.email} created{sent.delivery === 'smtp' ? ' and sent by email' : ''}.
                {sent.inviteUrl ? ' Copy its link below.' : ''}
              </p>
            ) : null}
          </form>
          <ProblemView problem={invite.problem} />
          <Invites api={api} me={me} reloadKey={invitesKey} />
        </>
      ) : null}
    </div>
  );
}
