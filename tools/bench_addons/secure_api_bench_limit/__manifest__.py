{
    "name": "Secure API benchmark limit",
    "summary": "Test only: bare JSON routes doing the ORM work of a REST call",
    "version": "1.0.0",
    "category": "Hidden",
    "website": "https://github.com/secure-api/secure_api",
    "author": "Secure API contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["base"],
    "data": [],
}
