"""Kubernetes `Status` failure objects with the reasons and message texts the real API server uses."""

from k8s_standin.crds import ResourceType

NOT_FOUND_MESSAGE = 'the server could not find the requested resource'


class ApiError(Exception):
    """Raised anywhere while answering an API request; the handler sends `status` with HTTP code `code`."""

    def __init__(self, status: dict):
        super().__init__(status['message'])
        self.status = status

    @property
    def code(self) -> int:
        return self.status['code']


def failure(code: int, reason: str, message: str, details: dict | None = None, metadata: dict | None = None) -> dict:
    status = {
        'kind': 'Status',
        'apiVersion': 'v1',
        'metadata': metadata or {},
        'status': 'Failure',
        'message': message,
        'reason': reason,
        'details': details if details is not None else {},
        'code': code,
    }
    if details is None:
        # The real server leaves details out entirely when there are none (401, 404 on unknown paths).
        del status['details']
    return status


def unauthorized() -> ApiError:
    return ApiError(failure(401, 'Unauthorized', 'Unauthorized'))


def _scope(namespace: str | None) -> str:
    return f'in the namespace "{namespace}"' if namespace else 'at the cluster scope'


def forbidden(user: str, verb: str, resource: ResourceType, namespace: str | None, name: str | None) -> ApiError:
    subject = f'{resource.name} "{name}"' if name else resource.name
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource.plural}" '
        f'in API group "{resource.group}" {_scope(namespace)}'
    )
    details = {'group': resource.group, 'kind': resource.plural}
    if name:
        details = {'name': name, **details}
    return ApiError(failure(403, 'Forbidden', message, details))


def forbidden_path(user: str, path: str) -> ApiError:
    return ApiError(failure(403, 'Forbidden', f'forbidden: User "{user}" cannot get path "{path}"', {}))


def path_not_found() -> ApiError:
    """What the server says for a group, version or resource it does not serve."""
    return ApiError(failure(404, 'NotFound', NOT_FOUND_MESSAGE, {}))


def object_not_found(resource: ResourceType, name: str) -> ApiError:
    details = {'name': name, 'group': resource.group, 'kind': resource.plural}
    return ApiError(failure(404, 'NotFound', f'{resource.name} "{name}" not found', details))


def internal_error(cause: str) -> ApiError:
    details = {'causes': [{'message': cause}]}
    return ApiError(failure(500, 'InternalError', f'Internal error occurred: {cause}', details))


def bad_request(message: str) -> ApiError:
    return ApiError(failure(400, 'BadRequest', message))


def method_not_allowed() -> ApiError:
    return ApiError(
        failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})
    )


EXPIRED_CONTINUE_MESSAGE = (
    'The provided continue parameter is too old to display a consistent list result. You can start a new list '
    'without the continue parameter, or use the continue token in this response to retrieve the remainder of the '
    'results. Continuing with the provided token results in an inconsistent list - objects that were created, '
    'modified, or deleted between the time the first chunk was returned and now may show up in the list.'
)


def continue_expired(inconsistent_continue: str | None, remaining: int | None) -> ApiError:
    """410 Gone for a continue token whose snapshot is gone, carrying a token that resumes on current data."""
    metadata = {}
    if inconsistent_continue:
        metadata['continue'] = inconsistent_continue
        if remaining is not None:
            metadata['remainingItemCount'] = remaining
    return ApiError(failure(410, 'Expired', EXPIRED_CONTINUE_MESSAGE, metadata=metadata))
