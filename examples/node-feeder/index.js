// Example feeder: in Lambda it re-submits itself as a Batch job; inside that job the guard lets it run inline.
// CommonJS on purpose: require() searches NODE_PATH (/opt/nodejs/node_modules, where the layer puts cirrus-batch)
// in every Node runtime and in the runner; ESM `import` of a layer package works only where the runtime adds that.
const { runAsBatchJob, isBatchJob } = require('cirrus-batch');

exports.handler = async (event, context) => {
  // Outside Batch: ask the dispatcher to run this same function as a job, and stop here.
  const job = await runAsBatchJob(event, context, { memory: 4096, name: 'node-feeder' });
  if (job) {
    console.log(`submitted Batch job ${job.job_id}; result will be at ${job.url_out}`);
    return { submitted: job };
  }
  // Inside Batch: the heavy part, free of Lambda's 15 minutes and 10 GB.
  const items = Array.isArray(event.items) ? event.items : [];
  console.log(`processing ${items.length} items inline (in Batch: ${isBatchJob()})`);
  return {
    processed: items.length,
    total: items.reduce((sum, item) => sum + (Number(item.size) || 0), 0),
    batch_job_id: process.env.AWS_BATCH_JOB_ID,
  };
};
