import { compileWhere } from '../src/where.js';
compileWhere('v > 1', { v: 'numeric' });
for (const e of ['1.0001 ^ 1000000', '9.99 ^ 100000', '9.99 ^ 50000', '9.99 ^ 30000', '9.99 ^ 200000', '1.0001 ^ 1000000', '9.99 ^ 100000']) {
  const t = performance.now(); const c = process.cpuUsage();
  let r = 'ok';
  try { compileWhere(`v > ${e}`, { v: 'numeric' }); } catch (err) { r = (err as any).code; }
  const cu = process.cpuUsage(c);
  console.log(e, r, 'wall', (performance.now() - t).toFixed(1), 'cpu', ((cu.user + cu.system) / 1000).toFixed(1));
}
