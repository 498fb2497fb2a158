/* esa-routes.c: the ordered list of ways to reach the SDC. */
#include "config.h"

#include "esa-https.h"

#include <string.h>

void
esa_route_free (EsaRoute *route)
{
  if (route == NULL)
    return;
  g_free (route->proxy_url);
  g_free (route->proxy_user);
  if (route->proxy_password != NULL)
    memset (route->proxy_password, 0, strlen (route->proxy_password));
  g_free (route->proxy_password);
  g_free (route->server);
  g_free (route);
}

char *
esa_route_describe (const EsaRoute *route)
{
  if (route->proxy_url == NULL)
    return g_strdup_printf ("%s (direct)", route->server);
  return g_strdup_printf ("%s via proxy %u %s", route->server, route->proxy_index, route->proxy_url);
}

static char *
read_password (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  g_strchomp (text);
  return g_steal_pointer (&text);
}

GPtrArray *
esa_routes_build (EsaConfig *config, const char *const *servers, GPtrArray *warnings)
{
  GPtrArray *routes = g_ptr_array_new_with_free_func ((GDestroyNotify) esa_route_free);
  const char *const *list = servers != NULL ? servers : esa_config_get_servers (config);
  for (guint p = 0; p < esa_config_get_n_proxies (config); p++)
    {
      const char *url, *user, *password_file;
      g_autofree char *password = NULL;
      esa_config_get_proxy (config, p, &url, &user, &password_file);
      if (password_file != NULL)
        {
          g_autoptr (GError) error = NULL;
          password = read_password (password_file, &error);
          if (password == NULL)
            {
              if (warnings != NULL)
                g_ptr_array_add (warnings, g_strdup_printf ("proxy %u %s skipped: password-file: %s",
                                                            p + 1, url, error->message));
              continue;
            }
        }
      for (guint s = 0; list != NULL && list[s] != NULL; s++)
        {
          EsaRoute *r = g_new0 (EsaRoute, 1);
          r->proxy_index = p + 1;
          r->proxy_url = g_strdup (url);
          r->proxy_user = g_strdup (user);
          r->proxy_password = g_strdup (password);
          r->server = g_strdup (list[s]);
          g_ptr_array_add (routes, r);
        }
    }
  if (esa_config_get_direct (config))
    for (guint s = 0; list != NULL && list[s] != NULL; s++)
      {
        EsaRoute *r = g_new0 (EsaRoute, 1);
        r->server = g_strdup (list[s]);
        g_ptr_array_add (routes, r);
      }
  return routes;
}
