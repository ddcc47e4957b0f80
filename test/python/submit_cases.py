"""Runs cirrus_batch.submit_batch_job for each case read as JSON from stdin; prints the outcomes as JSON.

Used by test/integration/helper.test.ts: one python3 process (boto3 loads once) for every Python case.
"""

import json
import sys
from types import SimpleNamespace

import cirrus_batch


def run(case):
    kwargs = case.get("kwargs", {})
    if "big" in case:
        case["payload"] = {"blob": "x" * case["big"]}
    if "bigSet" in case:
        case["payloads"] = [{"i": i, "pad": "q" * 9000} for i in range(case["bigSet"])]
    if "request_id" in case:
        kwargs["context"] = SimpleNamespace(aws_request_id=case["request_id"])
    try:
        if "payloads" in case:
            answer = cirrus_batch.submit_batch_jobs(case["payloads"], case["arn"], **kwargs)
        else:
            answer = cirrus_batch.submit_batch_job(case["payload"], case["arn"], **kwargs)
        return {"answer": answer}
    except Exception as err:  # the test asserts on the type, so report any
        return {
            "error": {
                "type": type(err).__name__,
                "message": str(err),
                "dispatch_error": isinstance(err, cirrus_batch.BatchDispatchError),
            }
        }


if __name__ == "__main__":
    print(json.dumps([run(c) for c in json.load(sys.stdin)]))
