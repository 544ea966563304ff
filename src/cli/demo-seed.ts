// Seeds the demo table `items` that `npm start` serves, once per database, so a fresh machine has something to curl.
import pg from 'pg';

const SEED_SQL = `
CREATE TABLE IF NOT EXISTS public.items (
  id int4 PRIMARY KEY,
  title text NOT NULL,
  done bool NOT NULL DEFAULT false,
  tags text[],
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.items REPLICA IDENTITY FULL;
INSERT INTO public.items (id, title, done, tags) VALUES
  (1, 'Install Switchyard', true, '{setup}'),
  (2, 'Run npm start', true, '{setup}'),
  (3, 'curl the shape URL', false, '{try}'),
  (4, 'Insert a row and watch the live request return', false, '{try,live}'),
  (5, 'Read docs/', false, NULL)
ON CONFLICT (id) DO NOTHING;
`;

export async function seedDemo(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(SEED_SQL);
  } finally {
    await client.end();
  }
}
