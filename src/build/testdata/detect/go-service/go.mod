module example.com/api

go 1.22.1

require github.com/go-chi/chi/v5 v5.0.12
