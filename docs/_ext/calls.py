"""A griffe extension: the calls of UserService and AsyncUserService, read from the runtime.

Each call is written once in ``backendless_auth._core`` and installed in both services when the
package is imported (``ServiceBase.__init_subclass__``), so static analysis cannot see them.
This extension inspects the two classes and adds their calls to the API page.
"""

from __future__ import annotations

from typing import Any

import griffe

_SERVICES = {
    "backendless_auth._service.UserService": "backendless_auth._service",
    "backendless_auth._service_async.AsyncUserService": "backendless_auth._service_async",
}


class ServiceCalls(griffe.Extension):
    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        module = _SERVICES.get(cls.path)
        if module is None:
            return
        from backendless_auth._driver import Call, ServiceBase

        inspected = griffe.inspect(module)
        runtime = inspected[cls.name]
        # The calls, and the async browser login, whose docstring is the blocking one's with a
        # paragraph added at import time.
        names = [name for name, member in vars(ServiceBase).items() if isinstance(member, Call)]
        if cls.name == "AsyncUserService":
            names.append("login_with_browser")
        for name in names:
            if name in runtime.members:
                function = runtime.members[name]
                function.parent = cls
                if function.docstring is not None and cls.docstring is not None:
                    # Parsed like the rest of the page (Google style, as configured).
                    function.docstring.parser = cls.docstring.parser
                    function.docstring.parser_options = cls.docstring.parser_options
                cls.set_member(name, function)
