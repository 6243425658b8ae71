"""Paste filter that puts the caller's X-Auth-Token into Nova's context.

Nova 26's noauth2 middleware builds a RequestContext without the token, so
Nova's Glance client has no credentials and every image request fails with
500 computeFault. This filter runs after noauth2 and copies the header into
the context, which changes nothing in Nova's image code.
"""


def filter_factory(global_conf, **local_conf):
    def wrap(application):
        def middleware(environ, start_response):
            context = environ.get("nova.context")
            if context is not None:
                context.auth_token = environ.get("HTTP_X_AUTH_TOKEN")
            return application(environ, start_response)

        return middleware

    return wrap
