from shop import create_app
application = create_app()
