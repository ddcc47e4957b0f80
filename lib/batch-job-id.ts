// A Batch job's id: a UUID, or `<id>:<index>` for child `index` of an array job (Batch names its children so).

/** A Batch job id, or an array child's (`<id>:<index>`). */
export const BATCH_JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?::\d{1,4})?$/;

/** The array job an id belongs to: itself, or the parent of a child's id (`<id>:7` → `<id>`). */
export function parentJobId(id: string): string {
  return id.replace(/:\d+$/, '');
}
