"""An example Cirrus-style task: lambda_handler(event, context) that uses the Lambda context."""
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    # Logs go to stderr through the runner; the result is what the handler returns.
    print("processing %d feature(s) in request %s" % (len(event.get("features", [])), context.aws_request_id))
    features = [
        dict(feature, properties=dict(feature.get("properties", {}), processed_by=context.function_name))
        for feature in event.get("features", [])
    ]
    return {
        "type": event.get("type", "FeatureCollection"),
        "features": features,
        "process": {
            "request_id": context.aws_request_id,
            "function": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "remaining_ms_at_end": context.get_remaining_time_in_millis(),
        },
    }
