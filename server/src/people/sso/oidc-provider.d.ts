// oidc-provider (a dev dependency, used only by tests to run a real OpenID Provider) ships no types.
declare module 'oidc-provider';
