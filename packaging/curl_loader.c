// libcurl, loaded when first used, for the self-contained release binary.
//
// The release build links Foundation statically (scripts/build_release.sh). Its HTTP client
// (FoundationNetworking's URLSession) calls libcurl, which cannot be linked statically from
// Debian's archives (libcurl.a needs Kerberos, LDAP, ... which ship no static archives). This
// object defines the libcurl functions Foundation calls; the first call opens the system's
// libcurl.so.4 with dlopen and forwards every call to it. Only Hub and URL sources use HTTP, so
// the binary runs without libcurl for local files; a download without it stops with one line
// naming the missing library and exit status 2.
//
// The symbols have hidden visibility: the binary never exports them, so libcurl's own calls to
// its public functions are not routed back here. Debug and test builds link the toolchain's
// shared Foundation, which links libcurl itself, and do not use this file.

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define LOADER_API __attribute__((visibility("hidden")))

// The libcurl types are opaque here: handles are pointers, codes and options are C enums
// (int), and sockets are int, as in curl/curl.h and curl/multi.h.
typedef void CURL;
typedef void CURLM;
typedef void CURLU;
struct curl_slist;

#define CURL_FUNCTIONS(X)                                                                 \
  X(void *, curl_easy_init, (void))                                                       \
  X(void, curl_easy_cleanup, (CURL *))                                                    \
  X(int, curl_easy_setopt, (CURL *, int, ...))                                            \
  X(int, curl_easy_getinfo, (CURL *, int, ...))                                           \
  X(int, curl_easy_pause, (CURL *, int))                                                  \
  X(const char *, curl_easy_strerror, (int))                                              \
  X(void, curl_free, (void *))                                                            \
  X(int, curl_global_init, (long))                                                        \
  X(void *, curl_multi_init, (void))                                                      \
  X(int, curl_multi_cleanup, (CURLM *))                                                   \
  X(int, curl_multi_add_handle, (CURLM *, CURL *))                                        \
  X(int, curl_multi_remove_handle, (CURLM *, CURL *))                                     \
  X(int, curl_multi_assign, (CURLM *, int, void *))                                       \
  X(void *, curl_multi_info_read, (CURLM *, int *))                                       \
  X(int, curl_multi_setopt, (CURLM *, int, ...))                                          \
  X(int, curl_multi_socket_action, (CURLM *, int, int, int *))                            \
  X(struct curl_slist *, curl_slist_append, (struct curl_slist *, const char *))          \
  X(void, curl_slist_free_all, (struct curl_slist *))                                     \
  X(void *, curl_url, (void))                                                             \
  X(int, curl_url_get, (CURLU *, int, char **, unsigned int))                             \
  X(int, curl_url_set, (CURLU *, int, const char *, unsigned int))                        \
  X(char *, curl_version, (void))                                                         \
  X(void *, curl_version_info, (int))

#define DECLARE_POINTER(ret, name, params) static ret(*real_##name) params;
CURL_FUNCTIONS(DECLARE_POINTER)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_libcurl(void) {
  static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
  void *library = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && library == NULL; i++) {
    library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  }
  if (library == NULL) {
    fprintf(stderr,
            "error: downloading from the Hugging Face Hub or a URL needs libcurl "
            "(libcurl.so.4), which is not installed (apt-get install libcurl4, "
            "dnf install libcurl); local paths work without it\n");
    exit(2);
  }
#define RESOLVE(ret, name, params)                                                  \
  real_##name = (ret(*) params)dlsym(library, #name);                               \
  if (real_##name == NULL) {                                                        \
    fprintf(stderr, "error: the installed libcurl has no %s (libcurl 7.62 or newer " \
                    "is needed for Hub and URL downloads)\n", #name);               \
    exit(2);                                                                        \
  }
  CURL_FUNCTIONS(RESOLVE)
}

static void ensure_loaded(void) { pthread_once(&load_once, load_libcurl); }

// The variadic setters take one argument: a long, a pointer, a function pointer or a
// curl_off_t. On the 64-bit targets this binary is built for (x86-64, AArch64) all four are
// one 64-bit integer-class argument, so reading it as a pointer and passing it on is exact.
#define FORWARD_VARIADIC(name, Handle)                                              \
  LOADER_API int name(Handle *handle, int option, ...) {                            \
    ensure_loaded();                                                                \
    va_list arguments;                                                              \
    va_start(arguments, option);                                                    \
    void *value = va_arg(arguments, void *);                                        \
    va_end(arguments);                                                              \
    return real_##name(handle, option, value);                                      \
  }
FORWARD_VARIADIC(curl_easy_setopt, CURL)
FORWARD_VARIADIC(curl_easy_getinfo, CURL)
FORWARD_VARIADIC(curl_multi_setopt, CURLM)

#define FORWARD0(ret, name)                                                         \
  LOADER_API ret name(void) {                                                       \
    ensure_loaded();                                                                \
    return real_##name();                                                           \
  }
FORWARD0(void *, curl_easy_init)
FORWARD0(void *, curl_multi_init)
FORWARD0(void *, curl_url)
FORWARD0(char *, curl_version)

LOADER_API void curl_easy_cleanup(CURL *handle) {
  ensure_loaded();
  real_curl_easy_cleanup(handle);
}
LOADER_API int curl_easy_pause(CURL *handle, int bitmask) {
  ensure_loaded();
  return real_curl_easy_pause(handle, bitmask);
}
LOADER_API const char *curl_easy_strerror(int code) {
  ensure_loaded();
  return real_curl_easy_strerror(code);
}
LOADER_API void curl_free(void *pointer) {
  ensure_loaded();
  real_curl_free(pointer);
}
LOADER_API int curl_global_init(long flags) {
  ensure_loaded();
  return real_curl_global_init(flags);
}
LOADER_API int curl_multi_cleanup(CURLM *handle) {
  ensure_loaded();
  return real_curl_multi_cleanup(handle);
}
LOADER_API int curl_multi_add_handle(CURLM *multi, CURL *easy) {
  ensure_loaded();
  return real_curl_multi_add_handle(multi, easy);
}
LOADER_API int curl_multi_remove_handle(CURLM *multi, CURL *easy) {
  ensure_loaded();
  return real_curl_multi_remove_handle(multi, easy);
}
LOADER_API int curl_multi_assign(CURLM *multi, int socket, void *pointer) {
  ensure_loaded();
  return real_curl_multi_assign(multi, socket, pointer);
}
LOADER_API void *curl_multi_info_read(CURLM *multi, int *remaining) {
  ensure_loaded();
  return real_curl_multi_info_read(multi, remaining);
}
LOADER_API int curl_multi_socket_action(CURLM *multi, int socket, int events, int *running) {
  ensure_loaded();
  return real_curl_multi_socket_action(multi, socket, events, running);
}
LOADER_API struct curl_slist *curl_slist_append(struct curl_slist *list, const char *text) {
  ensure_loaded();
  return real_curl_slist_append(list, text);
}
LOADER_API void curl_slist_free_all(struct curl_slist *list) {
  ensure_loaded();
  real_curl_slist_free_all(list);
}
LOADER_API int curl_url_get(CURLU *url, int part, char **value, unsigned int flags) {
  ensure_loaded();
  return real_curl_url_get(url, part, value, flags);
}
LOADER_API int curl_url_set(CURLU *url, int part, const char *value, unsigned int flags) {
  ensure_loaded();
  return real_curl_url_set(url, part, value, flags);
}
LOADER_API void *curl_version_info(int age) {
  ensure_loaded();
  return real_curl_version_info(age);
}
