// The part of asl-validator (which ships no types) that the state-machine test uses.
declare module 'asl-validator' {
  interface AslValidationResult {
    isValid: boolean;
    errors: unknown[];
    errorsText(separator?: string): string;
  }
  export default function validator(definition: unknown): AslValidationResult;
}
