from . import secure_api_client_secret_show
