// Public surface of the errors layer: the code enum and every error class.
export { ErrorCode } from './codes.js';
export {
  SwitchyardError,
  WhereError,
  ValueError,
  RouterError,
  invalidInput,
  outOfRange,
  divisionByZero,
  renderCaret,
} from './errors.js';
