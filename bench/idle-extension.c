/*
 * The bench's idle extension (figure 8), compiled as the extensions most layers carry are (Go, Rust): it registers
 * under its file name for INVOKE and SHUTDOWN, then asks for its next event until SHUTDOWN, doing nothing else.
 * HTTP/1.1 over one connection a request (Connection: close), as the Extensions API reference describes the calls.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in api;
static char response[65536];

/* Sends `request`, reads the whole answer into `response`; -1 when the API cannot be reached. */
static int call(const char *request) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&api, sizeof api) != 0) return -1;
  size_t len = strlen(request), sent = 0;
  while (sent < len) {
    ssize_t w = write(s, request + sent, len - sent);
    if (w <= 0) return -1;
    sent += (size_t)w;
  }
  size_t n = 0;
  ssize_t r;
  while (n < sizeof response - 1 && (r = read(s, response + n, sizeof response - 1 - n)) > 0) n += (size_t)r;
  response[n] = 0;
  close(s);
  return 0;
}

int main(int argc, char **argv) {
  const char *address = getenv("AWS_LAMBDA_RUNTIME_API");
  char host[64];
  const char *colon = address ? strrchr(address, ':') : NULL;
  if (argc < 1 || !colon || (size_t)(colon - address) >= sizeof host) return 2;
  memcpy(host, address, (size_t)(colon - address));
  host[colon - address] = 0;
  api.sin_family = AF_INET;
  api.sin_port = htons((unsigned short)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &api.sin_addr) != 1) return 2;

  const char *body = "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}";
  char request[1024];
  snprintf(request, sizeof request,
           "POST /2020-01-01/extension/register HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Name: %s\r\n"
           "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
           address, basename(argv[0]), strlen(body), body);
  if (call(request) != 0) return 1;
  char *header = strcasestr(response, "\nLambda-Extension-Identifier:");
  if (!header) return 1;
  char id[64];
  if (sscanf(header + strlen("\nLambda-Extension-Identifier:"), " %63[0-9a-fA-F-]", id) != 1) return 1;

  snprintf(request, sizeof request,
           "GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Identifier: %s\r\n"
           "Connection: close\r\n\r\n",
           address, id);
  for (;;) {
    if (call(request) != 0) return 1;
    if (strstr(response, "\"SHUTDOWN\"")) return 0;
  }
}
