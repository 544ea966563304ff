import { parseNumeric, numericPow } from './src/values/numeric.js';
const a = parseNumeric(process.argv[2]!), b = parseNumeric(process.argv[3]!);
const t=performance.now(); for (let i=0;i<Number(process.argv[4]??10);i++) numericPow(a,b); console.log(((performance.now()-t)/Number(process.argv[4]??10)).toFixed(2),'ms');
