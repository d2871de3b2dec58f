"""productive-async: the async-first Python SDK for the Productive.io REST API.

Everything public is importable from here; modules with a leading underscore are private.
``productive_async.sandbox`` is the embedded sandbox server (public).
"""

from . import models, resources
from ._bulk import BulkResult, ItemOutcome
from ._client import Productive
from ._clock import Clock, FakeClock, LoopClock
from ._custom_fields import CustomFieldDefinition, CustomFieldOption, CustomFields
from ._engine import (
    Action,
    ListOptions,
    Page,
    Paginator,
    RawPage,
    ResourceBase,
    ResourceClient,
    response_of,
)
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    BatchRejectedError,
    BulkError,
    ConflictError,
    DecodeError,
    DriftError,
    ErrorObject,
    InvalidRequestError,
    NotAttemptedError,
    NotFoundError,
    PermissionDeniedError,
    ProductiveError,
    RateBackendError,
    RateLimitError,
    ServerError,
    TransportError,
    UnknownResourceError,
    ValidationError,
)
from ._jsonapi import Document, FilterGroup, all_of, any_of
from ._models import (
    InvoiceAttributionPreview,
    LineItemPreview,
    OpenIntEnum,
    OpenStrEnum,
    PreviewItem,
    Record,
    Ref,
)
from ._ratelimit import Rate, RateLimits
from ._redis import RedisBackend
from ._registry import Registry, ResourceSpec, default_registry
from ._transport import DEFAULT_BASE_URL, ResponseInfo, RetryPolicy, Timeouts

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "APIError",
    "Action",
    "AuthenticationError",
    "BadRequestError",
    "BatchRejectedError",
    "BulkError",
    "BulkResult",
    "Clock",
    "ConflictError",
    "CustomFieldDefinition",
    "CustomFieldOption",
    "CustomFields",
    "DecodeError",
    "Document",
    "DriftError",
    "ErrorObject",
    "FakeClock",
    "FilterGroup",
    "InvalidRequestError",
    "InvoiceAttributionPreview",
    "ItemOutcome",
    "LineItemPreview",
    "ListOptions",
    "LoopClock",
    "NotAttemptedError",
    "NotFoundError",
    "OpenIntEnum",
    "OpenStrEnum",
    "Page",
    "Paginator",
    "PermissionDeniedError",
    "PreviewItem",
    "Productive",
    "ProductiveError",
    "Rate",
    "RateBackendError",
    "RateLimitError",
    "RateLimits",
    "RawPage",
    "Record",
    "RedisBackend",
    "Ref",
    "Registry",
    "ResourceBase",
    "ResourceClient",
    "ResourceSpec",
    "ResponseInfo",
    "RetryPolicy",
    "ServerError",
    "Timeouts",
    "TransportError",
    "UnknownResourceError",
    "ValidationError",
    "__version__",
    "all_of",
    "any_of",
    "default_registry",
    "models",
    "resources",
    "response_of",
]
