export const ROLES = ['developer', 'approver', 'entity_manager', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: one user of one account. */
export interface Principal {
  accountId: string;
  user: string;
  roles: Role[];
  tokenId: string;
}
