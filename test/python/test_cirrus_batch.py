"""Unit tests of cirrus_batch that need no AWS: definition mapping, error classes, the guard, config errors."""

import io
import os
import unittest
from types import SimpleNamespace
from unittest import mock

import cirrus_batch


class ImageForDefinition(unittest.TestCase):
    def test_geolambda_definitions_pick_the_geolambda_image(self):
        for d in ("geolambda-as-batch", "mystack-geolambda-as-batch", "GeoLambda"):
            self.assertEqual(cirrus_batch.image_for_definition(d), "geolambda", d)

    def test_lambda_as_batch_definitions_pick_the_plain_image(self):
        self.assertEqual(cirrus_batch.image_for_definition("mystack-lambda-as-batch"), "lambda")

    def test_other_definitions_leave_the_choice_to_the_dispatcher_with_a_warning(self):
        with self.assertLogs("cirrus_batch", level="WARNING") as logs:
            self.assertIsNone(cirrus_batch.image_for_definition("my-custom-def"))
        self.assertIn("my-custom-def", logs.output[0])
        self.assertIsNone(cirrus_batch.image_for_definition(None))


class ErrorClasses(unittest.TestCase):
    def test_a_class_is_named_after_the_error_type_and_made_once(self):
        cls = cirrus_batch.error_class("InvalidRequestError")
        self.assertEqual(cls.__name__, "InvalidRequestError")
        self.assertTrue(issubclass(cls, cirrus_batch.BatchDispatchError))
        self.assertIs(cls, cirrus_batch.error_class("InvalidRequestError"))

    def test_error_classes_can_be_imported_by_name(self):
        from cirrus_batch import FunctionNotAllowedError

        self.assertIs(FunctionNotAllowedError, cirrus_batch.error_class("FunctionNotAllowedError"))
        with self.assertRaises(AttributeError):
            cirrus_batch.not_an_error  # noqa: B018

    def test_an_unusable_error_type_falls_back_to_the_base_class(self):
        self.assertIs(cirrus_batch.error_class(""), cirrus_batch.BatchDispatchError)
        self.assertIs(cirrus_batch.error_class("bad type!"), cirrus_batch.BatchDispatchError)


class Guard(unittest.TestCase):
    def test_is_batch_job_follows_aws_batch_job_id(self):
        self.assertTrue(cirrus_batch.is_batch_job({"AWS_BATCH_JOB_ID": "abc"}))
        self.assertFalse(cirrus_batch.is_batch_job({"AWS_BATCH_JOB_ID": ""}))
        self.assertFalse(cirrus_batch.is_batch_job({}))

    def test_is_batch_job_holds_wherever_the_runner_runs_the_function(self):
        self.assertTrue(cirrus_batch.is_batch_job({"RUN_LAMBDA_JOB": "1"}))
        self.assertFalse(cirrus_batch.is_batch_job({"RUN_LAMBDA_JOB": "0"}))


class IdempotencyKeys(unittest.TestCase):
    def test_a_retried_invocation_gets_the_same_key_and_another_submission_another(self):
        a = cirrus_batch.idempotency_key_for("req-1", {"lambda_function": "f", "payload": {"a": 1}})
        self.assertRegex(a, r"^req-1-[0-9a-f]{16}$")
        self.assertEqual(a, cirrus_batch.idempotency_key_for("req-1", {"payload": {"a": 1}, "lambda_function": "f"}))
        self.assertNotEqual(a, cirrus_batch.idempotency_key_for("req-1", {"lambda_function": "f", "payload": {"a": 2}}))
        self.assertNotEqual(a, cirrus_batch.idempotency_key_for("req-2", {"lambda_function": "f", "payload": {"a": 1}}))
        self.assertRegex(cirrus_batch.idempotency_key_for("x/" * 80, {}), r"^[A-Za-z0-9_-]{1,100}-[0-9a-f]{16}$")

    def test_items_are_stored_under_the_set_in_prefix(self):
        self.assertEqual(cirrus_batch.item_key("batch/", "f", "k", 7), "batch/f/k/in/7.json")
        self.assertEqual(cirrus_batch.item_key("batch", "f", "k", 0), "batch/f/k/in/0.json")


class FunctionNames(unittest.TestCase):
    def test_every_function_reference_form_yields_the_bare_name(self):
        for ref in (
            "feeder",
            "feeder:live",
            "123456789012:function:feeder",
            "arn:aws:lambda:us-east-1:123456789012:function:feeder:$LATEST",
        ):
            self.assertEqual(cirrus_batch._function_name(ref), "feeder", ref)
        with self.assertRaises(ValueError):
            cirrus_batch._function_name("not a function")


class StackQueue(unittest.TestCase):
    def test_a_bare_queue_gets_the_cirrus_stack_prefix_once(self):
        env = {"CIRRUS_STACK": "prod"}
        self.assertEqual(cirrus_batch.stack_queue("basic-ondemand", env), "prod-basic-ondemand")
        self.assertEqual(cirrus_batch.stack_queue("prod-basic-ondemand", env), "prod-basic-ondemand")
        arn = "arn:aws:batch:us-east-1:123456789012:job-queue/q"
        self.assertEqual(cirrus_batch.stack_queue(arn, env), arn)
        self.assertEqual(cirrus_batch.stack_queue("q", {}), "q")
        self.assertIsNone(cirrus_batch.stack_queue(None, env))


class Clients(unittest.TestCase):
    def test_the_lambda_client_uses_the_dispatcher_arn_region_else_aws_region(self):
        env = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
        with mock.patch.dict(os.environ, env):
            self.assertEqual(cirrus_batch._client("lambda", env, "eu-west-1").meta.region_name, "eu-west-1")
            self.assertEqual(cirrus_batch._client("lambda", env).meta.region_name, "us-east-1")

    def test_the_invoke_is_never_retried_by_boto3(self):
        env = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
        with mock.patch.dict(os.environ, env):
            self.assertEqual(cirrus_batch._client("lambda", env).meta.config.retries["total_max_attempts"], 1)
            self.assertGreater(cirrus_batch._client("s3", env).meta.config.retries["total_max_attempts"], 1)

    def test_every_item_writer_has_a_pooled_connection(self):
        env = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
        with mock.patch.dict(os.environ, env):
            pool = cirrus_batch._client("s3", env).meta.config.max_pool_connections
            self.assertEqual(pool, cirrus_batch.ITEM_WRITE_CONCURRENCY)


class ConfigErrors(unittest.TestCase):
    def test_without_a_dispatcher_the_helper_names_the_variable(self):
        with mock.patch.dict(os.environ, {"BATCH_DISPATCHER_FUNCTION": ""}):
            with self.assertRaisesRegex(cirrus_batch.ConfigError, "BATCH_DISPATCHER_FUNCTION"):
                cirrus_batch.submit_batch_job({}, "arn:aws:lambda:us-east-1:123456789012:function:f")

    def test_an_oversized_payload_without_a_bucket_says_to_set_payload_bucket(self):
        env = {"BATCH_DISPATCHER_FUNCTION": "d", "PAYLOAD_BUCKET": "", "CIRRUS_PAYLOAD_BUCKET": ""}
        with mock.patch.dict(os.environ, env):
            with self.assertRaisesRegex(cirrus_batch.PayloadTooLargeError, "set PAYLOAD_BUCKET"):
                cirrus_batch.submit_batch_job({"x": "a" * 6_100_000}, "f")


class FakeS3:
    """Records put_object calls; the helper's only S3 call."""

    def __init__(self):
        self.keys = []

    def put_object(self, Bucket, Key, Body, ContentType):  # noqa: N803 (boto3's names)
        self.keys.append(Key)


class FakeLambda:
    """Answers every invoke with a job; records what was sent."""

    def __init__(self):
        self.payloads = []

    def invoke(self, FunctionName, InvocationType, Payload):  # noqa: N803 (boto3's names)
        self.payloads.append(Payload)
        return {"Payload": io.BytesIO(b'{"job_id": "j-1"}')}


class HostileInput(unittest.TestCase):
    ENV = {"BATCH_DISPATCHER_FUNCTION": "d", "PAYLOAD_BUCKET": "b", "PAYLOAD_PREFIX": "batch/"}
    BIG = {"x": "a" * 6_100_000}

    def submit(self, payload, **kwargs):
        s3, lam = FakeS3(), FakeLambda()
        with mock.patch.dict(os.environ, self.ENV):
            try:
                return s3, lam, cirrus_batch.submit_batch_job(payload, "f", s3_client=s3, lambda_client=lam, **kwargs)
            except cirrus_batch.BatchDispatchError as err:
                return s3, lam, err

    def test_a_key_that_would_leave_the_prefix_or_name_another_object_is_refused_before_anything_is_staged(self):
        for key in ("../../escaped", "a/b", "k.dispatch", "k_out", ".sha256-" + "0" * 64):
            s3, lam, err = self.submit(self.BIG, idempotency_key=key)
            self.assertIsInstance(err, cirrus_batch.error_class("InvalidRequestError"), key)
            self.assertRegex(str(err), r"^idempotency_key: ")
            self.assertEqual((s3.keys, lam.payloads), ([], []), key)
        s3, lam = FakeS3(), FakeLambda()
        with mock.patch.dict(os.environ, self.ENV):
            with self.assertRaisesRegex(cirrus_batch.error_class("InvalidRequestError"), "^idempotency_key: "):
                cirrus_batch.submit_batch_jobs([{"p": "q" * 9000}] * 700, "f", idempotency_key="../x",
                                               s3_client=s3, lambda_client=lam)
        self.assertEqual(s3.keys, [])

    def test_a_hostile_request_id_names_objects_under_the_function_prefix_only(self):
        context = SimpleNamespace(aws_request_id="../../../escaped")
        s3, lam, answer = self.submit(self.BIG, context=context)
        self.assertEqual(answer, {"job_id": "j-1"})
        [key] = s3.keys
        self.assertRegex(key, r"^batch/f/[A-Za-z0-9_-]+\.json$")
        self.assertNotIn("..", key)

    def test_a_payload_json_cannot_carry_is_refused_before_the_invoke_without_its_text(self):
        for payload in ({"v": float("nan"), "token": "tok-5ecret"}, {"v": float("inf")}, {"token": {1, 2}}):
            s3, lam, err = self.submit(payload)
            self.assertIsInstance(err, cirrus_batch.error_class("InvalidRequestError"), payload)
            self.assertRegex(str(err), r"^payload: cannot be sent as JSON")
            self.assertNotIn("5ecret", str(err))
            self.assertEqual(lam.payloads, [])

    def test_keys_are_built_only_from_one_segment_names(self):
        for bad in (("batch/", "f", "../x"), ("batch/", "../f", "id"), ("batch/", "f", "a/b"), ("batch/", "f", "k.dispatch")):
            with self.assertRaises(cirrus_batch.error_class("InvalidRequestError"), msg=bad):
                cirrus_batch.payload_key(*bad)
        with self.assertRaises(cirrus_batch.error_class("InvalidRequestError")):
            cirrus_batch.item_key("batch/", "f", "../k", 0)


if __name__ == "__main__":
    unittest.main()
