# One image for web (gunicorn), detection workers and the trainer.
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PYTHONPATH=/app/platform:/app
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libsndfile1 curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
# torch is pinned to 2.13.0; the CPU wheel index keeps the image free of CUDA libraries.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
    && pip install .
COPY . .
RUN python -c "import numpy as np, librosa; librosa.feature.melspectrogram(y=np.zeros(16000, dtype=np.float32), sr=16000)" \
    && DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --create-home singscope && mkdir -p /data/media && chown -R singscope /data /app/var
USER singscope
EXPOSE 8000
CMD ["gunicorn", "singscope.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
