/* esa-aix.h: parsers for AIX command output (uname, prtconf, lsattr, lsmcode,
 * lslpp, errpt, diag, lscfg, lparstat), for collectors. Tolerant: odd lines
 * become warnings, garbage is an ESA_ERROR_INVALID_DATA error naming the line. */
#pragma once

/* TEMPORARY shim until the parser header moves here. */
#include "../esa-aix-parse-private.h"
