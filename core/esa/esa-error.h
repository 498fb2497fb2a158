/* esa-error.h: the one error domain shared by the core, plugins and tools. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESA_ERROR (esa_error_quark ())

typedef enum {
  ESA_ERROR_FAILED,          /* anything not listed below */
  ESA_ERROR_INVALID_CONFIG,  /* a config file, group, key or value is wrong */
  ESA_ERROR_INVALID_DATA,    /* input from outside (command output, JSON, HTTP) is malformed */
  ESA_ERROR_NOT_FOUND,
  ESA_ERROR_NOT_SUPPORTED,
  ESA_ERROR_REFUSED,         /* policy said no: vendor, LPAR, permissions, allow-list */
  ESA_ERROR_TIMEOUT,
  ESA_ERROR_NETWORK,         /* DNS, TCP, proxy: worth retrying */
  ESA_ERROR_TLS,             /* handshake or certificate policy failed */
  ESA_ERROR_AUTH,            /* credentials refused */
  ESA_ERROR_REJECTED,        /* the SDC answered 4xx: do not retry */
  ESA_ERROR_BUSY,            /* 5xx / 503: retry later */
  ESA_ERROR_NOT_ACTIVATED,
} EsaError;

GQuark esa_error_quark (void);

G_END_DECLS
