-- The postgres image creates the Optuna database (POSTGRES_DB=optuna); MLflow gets its own.
CREATE DATABASE mlflow;
