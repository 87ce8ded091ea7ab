# The Dockerfile testdata/sample.tar's history tells (the image is written by the
# fixture builder, not built from this file): `imgsize fix` reads it.
FROM python:3.12
RUN apt-get update && apt-get install -y gcc libpq-dev
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
RUN rm -rf /var/lib/apt/lists/*
COPY . /app
RUN chmod -R 755 /app
CMD ["python", "main.py"]
