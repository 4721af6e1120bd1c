from . import test_models
from . import test_rest
from . import test_ui
