import { parseNumeric, numericPow } from './src/values/numeric.js';
import { withWorkBudget } from './src/values/work-budget.js';
import * as wb from './src/values/work-budget.js';
const cases = [['9.99','12000'],['9.99','100000'],['123.456','100000'],['2','0.5'],['1.1','1.1'],['75000000000','4096'],['10','100000'],['0.5','-100000'],['3.14159265358979323846264338327950288','100000'],['1.'+'3'.repeat(999),'1000'],['1.'+'3'.repeat(999),'2.5']];
for (const [a,b] of cases) {
  const x=parseNumeric(a!), y=parseNumeric(b!);
  try { numericPow(x,y);} catch {}
  let t=performance.now(); let n=0; while (performance.now()-t<300 || n<2) { try{numericPow(x,y);}catch{} n++; } const ms=(performance.now()-t)/n;
  // find units by binary search on budget
  let lo=0, hi=1e6; while (hi-lo>hi*0.02) { const mid=(lo+hi)/2; try { withWorkBudget(mid,'x',()=>{ try { numericPow(x,y); } catch(e) { if (e instanceof wb.TooExpensiveError) throw e; } }); hi=mid; } catch { lo=mid; } }
  console.log(a!.slice(0,12), b, 'ms', ms.toFixed(2), 'units(ms)', hi.toFixed(2), 'ratio', (ms/hi).toFixed(2));
}
