import { compileWhere } from './src/index.js';
for (const c of ['price > 10::numeric ^ 100000', 'price > 9.99 ^ 12000', 'price > 9.99 ^ 100000', 'price > 10::numeric ^ 100000 * 10::numeric ^ 100000', 'x ^ 12000 > 0']) {
  const t = performance.now();
  try { compileWhere(c, { price: 'numeric', x: 'numeric' }); console.log('ok', c, (performance.now()-t).toFixed(1)); }
  catch (e) { console.log('ERR', c, (performance.now()-t).toFixed(1), (e as any).code, (e as Error).message, (e as any).position); }
}
const p = compileWhere('x ^ 12000 > 0', { x: 'numeric' });
let t = performance.now(); console.log(p.matches({x: '9.99'}), (performance.now()-t).toFixed(1),'ms row');
t = performance.now(); try { console.log(compileWhere('x ^ 100000 > 0', { x: 'numeric' }).matches({x: '123.456'})); } catch(e) { console.log((e as Error).message) } console.log((performance.now()-t).toFixed(1),'ms row');
