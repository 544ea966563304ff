// One vitest fixture for suites that ask Postgres as the oracle: a fresh database and a WhereOracle on it.
import { afterAll, beforeAll } from 'vitest';
import { WhereOracle } from './oracle.js';
import { freshDatabase, type FreshDatabase } from './pg-env.js';

/** Registers beforeAll/afterAll in the calling describe block; read `db`/`oracle` inside tests, not at collection. */
export function useOracle(): { readonly db: FreshDatabase; readonly oracle: WhereOracle } {
  let db: FreshDatabase | undefined;
  let oracle: WhereOracle | undefined;
  beforeAll(async () => {
    db = await freshDatabase();
    oracle = new WhereOracle(db.url);
  });
  afterAll(async () => {
    await oracle?.close();
    await db?.drop();
  });
  return {
    get db(): FreshDatabase {
      if (db === undefined) throw new Error('useOracle(): database not ready (read it inside a test)');
      return db;
    },
    get oracle(): WhereOracle {
      if (oracle === undefined) throw new Error('useOracle(): oracle not ready (read it inside a test)');
      return oracle;
    },
  };
}
