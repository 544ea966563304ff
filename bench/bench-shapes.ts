// The shapes the service benches create: `user_id = $1` on `public.items`, one per user (no imports: the service's
// child process and the benches share it without loading each other).
export const BENCH_WHERE = 'user_id = $1';
