// An example Node.js function: an async ESM handler that uses the Lambda context.
export const handler = async (event, context) => {
  console.log(`summing ${event.numbers?.length ?? 0} numbers in request ${context.awsRequestId}`);
  const sum = (event.numbers ?? []).reduce((a, b) => a + b, 0);
  return {
    sum,
    function: context.functionName,
    remainingMs: context.getRemainingTimeInMillis(),
  };
};
