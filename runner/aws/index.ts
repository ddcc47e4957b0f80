// The AWS half of the runner in one module: what runner/aws-module.ts loads on first use.
export { functionCredentials } from './credentials.js';
export { prepareDeployedFunction } from './deployed-function.js';
export { putS3Object, s3ObjectExists } from './s3-object.js';
export { downloadS3Payload, uploadS3Result } from './s3-payload.js';
