from . import secure_api_client_secret_show
from . import secure_api_export_wizard
from . import secure_api_test_wizard
