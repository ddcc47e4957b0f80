// Stand-in of the Java base images' runtime client (aws-lambda-java-runtime-interface-client) for the image tests, on
// Debian's OpenJDK instead of Amazon Corretto, with only what the tests' handlers need. It loads _HANDLER
// (`package.Class::method`, `::handleRequest` when no method is named) from the task root's classes and lib/*.jar,
// asks the Runtime API for the invocation, calls the method as a stream handler, `method(InputStream, OutputStream)`,
// and posts what it wrote, or the exception (its class as errorType) as the real client does.
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

public final class StandInRuntime {
  // HTTP/1.1 only: the Runtime API is a plain HTTP/1.1 server, and an h2c upgrade offer has no place there.
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final String API = "http://" + System.getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime";

  private record Handler(Object target, Method method) {}

  public static void main(String[] args) throws Exception {
    Handler handler;
    try {
      handler = load(System.getenv("_HANDLER"), System.getenv("LAMBDA_TASK_ROOT"));
    } catch (Throwable e) {
      post("/init/error", errorBody(e));
      System.exit(1);
      return;
    }
    while (true) {
      HttpResponse<byte[]> next = HTTP.send(
          HttpRequest.newBuilder(URI.create(API + "/invocation/next")).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      String id = next.headers().firstValue("Lambda-Runtime-Aws-Request-Id").orElseThrow();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        handler.method().invoke(handler.target(), new ByteArrayInputStream(next.body()), out);
        post("/invocation/" + id + "/response", out.toByteArray());
      } catch (InvocationTargetException e) {
        post("/invocation/" + id + "/error", errorBody(e.getCause()));
      }
    }
  }

  private static Handler load(String name, String taskRoot) throws Exception {
    String[] parts = name.split("::", 2);
    String methodName = parts.length == 2 ? parts[1] : "handleRequest";
    List<URL> path = new ArrayList<>();
    path.add(new File(taskRoot).toURI().toURL());
    File[] jars = new File(taskRoot, "lib").listFiles((dir, f) -> f.endsWith(".jar"));
    if (jars != null) for (File jar : jars) path.add(jar.toURI().toURL());
    ClassLoader loader = new URLClassLoader(path.toArray(new URL[0]), StandInRuntime.class.getClassLoader());
    Class<?> type = Class.forName(parts[0], true, loader);
    Method method = type.getMethod(methodName, InputStream.class, OutputStream.class);
    Object target = Modifier.isStatic(method.getModifiers()) ? null : type.getDeclaredConstructor().newInstance();
    return new Handler(target, method);
  }

  private static void post(String path, byte[] body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(API + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    HTTP.send(request, HttpResponse.BodyHandlers.discarding());
  }

  private static byte[] errorBody(Throwable e) {
    StringBuilder stack = new StringBuilder();
    for (StackTraceElement frame : e.getStackTrace()) {
      stack.append(stack.length() == 0 ? "" : ",").append(quote(frame.toString()));
    }
    String message = e.getMessage() == null ? "" : e.getMessage();
    String json = "{\"errorType\":" + quote(e.getClass().getName()) + ",\"errorMessage\":" + quote(message)
        + ",\"stackTrace\":[" + stack + "]}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String quote(String s) {
    StringBuilder q = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') q.append('\\').append(c);
      else if (c < 0x20) q.append(String.format("\\u%04x", (int) c));
      else q.append(c);
    }
    return q.append('"').toString();
  }
}
