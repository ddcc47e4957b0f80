# Stand-in of the Ruby base images' runtime client (aws_lambda_ric) for the image tests, on Debian's Ruby, with only
# what the tests' handlers need. It loads _HANDLER (`file.method`, or `file.Module::Class.method`) from the task root,
# asks the Runtime API for the invocation, calls the method with `event:` and `context:` as the real client does, and
# posts its result as JSON, or the exception (its class as errorType).
require 'json'
require 'net/http'

API_HOST, API_PORT = ENV.fetch('AWS_LAMBDA_RUNTIME_API').split(':')
BASE = '/2018-06-01/runtime'

# The context's part the tests use, under the real client's names.
Context = Struct.new(:aws_request_id, :invoked_function_arn, :function_name, :deadline_ms, keyword_init: true) do
  def get_remaining_time_in_millis = [deadline_ms - (Time.now.to_f * 1000).to_i, 0].max
end

def http
  # No read timeout: /next waits for as long as the invocation takes to arrive.
  Net::HTTP.start(API_HOST, API_PORT.to_i, read_timeout: nil) { |h| yield h }
end

def post(path, body)
  http { |h| h.post("#{BASE}#{path}", body, 'Content-Type' => 'application/json') }
end

def error_body(e)
  { errorMessage: e.message, errorType: e.class.name, stackTrace: e.backtrace || [] }.to_json
end

def load_handler(name, task_root)
  file, path = name.split('.', 2)
  raise ArgumentError, "Bad handler #{name}: expected <file>.<method>" unless path

  require File.join(task_root, file)
  owner, _, method = path.rpartition('.')
  owner.empty? ? [Object.new, method] : [Object.const_get(owner), method]
end

begin
  target, method = load_handler(ENV.fetch('_HANDLER'), ENV.fetch('LAMBDA_TASK_ROOT', '/var/task'))
rescue Exception => e # a load error of any kind (SyntaxError, LoadError, NameError) is the init error
  post('/init/error', error_body(e))
  exit 1
end

loop do
  res = http { |h| h.get("#{BASE}/invocation/next") }
  id = res['Lambda-Runtime-Aws-Request-Id']
  context = Context.new(aws_request_id: id, invoked_function_arn: res['Lambda-Runtime-Invoked-Function-Arn'],
                        function_name: ENV['AWS_LAMBDA_FUNCTION_NAME'], deadline_ms: res['Lambda-Runtime-Deadline-Ms'].to_i)
  begin
    # Top-level methods of the handler file are private methods of Object, as in the real client.
    result = target.send(method, event: JSON.parse(res.body), context: context)
    post("/invocation/#{id}/response", result.to_json)
  rescue StandardError, ScriptError => e
    post("/invocation/#{id}/error", error_body(e))
  end
end
