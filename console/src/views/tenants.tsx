// Platform operators: the deployment's tenants, a new tenant, and an invitation for its first owner.
// Every action here is written to the platform audit log with the operator as actor.
import type { Invite, PlatformTenant as TenantRow } from '@parley/protocol';
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { ProblemView, ScrollingTable, SecretOnce, useAction, useLoad, When } from '../components.js';

export function TenantsView({ platform }: { platform?: Api }) {
  if (!platform) return null;
  return <Tenants platform={platform} />;
}

function Tenants({ platform }: { platform: Api }) {
  const list = useLoad(() => platform<{ tenants: TenantRow[] }>('GET', '/tenants'), [platform]);
  const action = useAction();
  const [name, setName] = useState('');
  const [domains, setDomains] = useState('');
  const [created, setCreated] = useState<{ tenant: { id: string; name: string }; publishableKey: string; secretKey: string } | null>(null);
  const [ownerFor, setOwnerFor] = useState<TenantRow | null>(null);
  const [email, setEmail] = useState('');
  const [invite, setInvite] = useState<Invite | null>(null);

  const create = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const list2 = domains.split(/[\s,]+/).filter(Boolean);
      setCreated(await platform('POST', '/tenants', { name: name.trim(), domains: list2 }));
      setName('');
      setDomains('');
      list.reload();
    });
  };
  const inviteOwner = (e: Event) => {
    e.preventDefault();
    if (!ownerFor) return;
    void action.run(async () => {
      setInvite((await platform<{ invite: Invite }>('POST', `/tenants/${ownerFor.id}/invites`, { email: email.trim(), role: 'owner' })).invite);
      setEmail('');
      list.reload();
    });
  };

  return (
    <div>
      <p>Tenants of this deployment. What you do here is recorded in the platform audit log under your name.</p>
      <ProblemView problem={list.problem} />
      {list.data && !list.data.tenants.length ? <p class="muted">No tenants yet: create the first below.</p> : null}
      <ScrollingTable label="Tenants">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Members</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.tenants ?? []).map((t) => (
            <tr key={t.id} aria-current={ownerFor?.id === t.id ? 'true' : undefined}>
              <td dir="auto">{t.name}</td>
              <td>
                <code>{t.id}</code>
              </td>
              <td>{t.members}</td>
              <td>
                <When iso={t.createdAt} />
              </td>
              <td>
                <button type="button" class="secondary small" onClick={() => (setOwnerFor(t), setInvite(null))}>
                  Invite an owner
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </ScrollingTable>

      {ownerFor ? (
        <form class="card" onSubmit={inviteOwner}>
          <h2>Invite an owner to {ownerFor.name}</h2>
          <label for="owner-email">Email</label>
          <input id="owner-email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />
          <button type="submit" aria-disabled={action.busy}>
            Send invitation
          </button>
          {invite ? (
            invite.inviteUrl ? (
              <SecretOnce label="Invitation link (single use, 7 days): send it to them" secret={invite.inviteUrl} onDone={() => setInvite(null)} />
            ) : (
              <p role="status">Invitation emailed to {invite.email}.</p>
            )
          ) : null}
        </form>
      ) : null}

      <form class="card" onSubmit={create}>
        <h2>New tenant</h2>
        <label for="tenant-name">Name</label>
        <input id="tenant-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={200} />
        <label for="tenant-domains">Allowed website domains (optional)</label>
        <input id="tenant-domains" value={domains} onInput={(e) => setDomains(e.currentTarget.value)} placeholder="shop.example.com, *.example.com" />
        <button type="submit" aria-disabled={action.busy}>
          Create tenant
        </button>
      </form>
      <ProblemView problem={action.problem} />
      {created ? (
        <section aria-labelledby="created-title">
          <h2 id="created-title">{created.tenant.name} is ready</h2>
          <p>
            Publishable key <code>{created.publishableKey}</code>. Invite its first owner from the table above.
          </p>
          <SecretOnce label="Its admin API key, for servers and scripts (shown once)" secret={created.secretKey} onDone={() => setCreated(null)} />
        </section>
      ) : null}
    </div>
  );
}
