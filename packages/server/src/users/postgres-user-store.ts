import { UserExistsError } from '@tessera/core/internal';
import pg from 'pg';
import type { UserRecord, UserStore } from './types.ts';

/** Schema migrations, applied in order on start; each runs once (recorded in `tessera_migrations`). */
const MIGRATIONS: string[] = [
  `CREATE TABLE tessera_users (
     id text PRIMARY KEY,
     username text NOT NULL UNIQUE,
     password_hash text NOT NULL,
     roles text[] NOT NULL DEFAULT '{}',
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
];

interface Row {
  id: string;
  username: string;
  password_hash: string;
  roles: string[];
  created_at: Date;
}

function toUser(row: Row): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    roles: row.roles,
    createdAt: row.created_at.toISOString(),
  };
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One migrator at a time, even with several instances starting together.
    await client.query('SELECT pg_advisory_xact_lock(7465727)');
    await client.query(
      'CREATE TABLE IF NOT EXISTS tessera_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = await client.query<{ version: number }>('SELECT version FROM tessera_migrations');
    const applied = new Set(done.rows.map((r) => r.version));
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (applied.has(index + 1)) continue;
      await client.query(sql);
      await client.query('INSERT INTO tessera_migrations (version) VALUES ($1)', [index + 1]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Users in PostgreSQL (table `tessera_users`, created by a migration on start). */
export async function createPostgresUserStore(connectionString: string): Promise<UserStore> {
  const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 3000 });
  pool.on('error', () => {});
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const select = 'SELECT id, username, password_hash, roles, created_at FROM tessera_users';
  return {
    async findByUsername(username) {
      const result = await pool.query<Row>(`${select} WHERE username = $1`, [username]);
      return result.rows[0] ? toUser(result.rows[0]) : null;
    },
    async findById(id) {
      const result = await pool.query<Row>(`${select} WHERE id = $1`, [id]);
      return result.rows[0] ? toUser(result.rows[0]) : null;
    },
    async create(user) {
      try {
        await pool.query(
          'INSERT INTO tessera_users (id, username, password_hash, roles, created_at) VALUES ($1, $2, $3, $4, $5)',
          [user.id, user.username, user.passwordHash, user.roles, user.createdAt],
        );
      } catch (error) {
        if ((error as { code?: string }).code === '23505')
          throw new UserExistsError('A user with this username exists');
        throw error;
      }
      return user;
    },
    async updatePasswordHash(id, passwordHash) {
      await pool.query('UPDATE tessera_users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
    },
    async close() {
      await pool.end();
    },
  };
}
