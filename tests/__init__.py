from . import test_models
from . import test_rest
from . import test_ui
from . import test_oauth
from . import test_performance
from . import test_documents
from . import test_hooks
