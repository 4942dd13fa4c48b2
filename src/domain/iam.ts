/** A project id as IAM writes it: 32 lowercase hex digits. */
export const PROJECT_ID = /^[0-9a-f]{32}$/;

/** The body of an IAM password login (`POST /v3/auth/tokens`) scoped to a project by id or name, as the official SDKs send it. */
export function passwordLogin(o: { user: string; password: string; account: string; project: { id: string } | { name: string } }) {
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { name: o.user, password: o.password, domain: { name: o.account } } } },
      scope: { project: o.project },
    },
  };
}
