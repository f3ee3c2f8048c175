import { Migration20261127000001 } from './Migration20261127000001';
import { Migration20261127000002 } from './Migration20261127000002';
import { Migration20261127000003 } from './Migration20261127000003';
import { Migration20261128000001 } from './Migration20261128000001';
import { Migration20261128000002 } from './Migration20261128000002';
import { Migration20261128104501 } from './Migration20261128104501';
import { Migration20261129000001 } from './Migration20261129000001';
import { Migration20261129000002 } from './Migration20261129000002';
import { Migration20261129000003 } from './Migration20261129000003';

/** Every migration, in order. Listed explicitly so compiled and test runs see the same set. */
export const MIGRATIONS = [
  { name: 'Migration20261127000001', class: Migration20261127000001 },
  { name: 'Migration20261127000002', class: Migration20261127000002 },
  { name: 'Migration20261127000003', class: Migration20261127000003 },
  { name: 'Migration20261128000001', class: Migration20261128000001 },
  { name: 'Migration20261128000002', class: Migration20261128000002 },
  { name: 'Migration20261128104501', class: Migration20261128104501 },
  { name: 'Migration20261129000001', class: Migration20261129000001 },
  { name: 'Migration20261129000002', class: Migration20261129000002 },
  { name: 'Migration20261129000003', class: Migration20261129000003 },
];
