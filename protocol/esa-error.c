/* esa-error.c: the ESA_ERROR domain. */
#include "config.h"

#include "esa/esa-error.h"

G_DEFINE_QUARK (esa-error-quark, esa_error)
