"""S3-compatible storage source plugin (see README.md)."""

from plugins.s3_minio.plugin import S3MinioPlugin

__all__ = ["S3MinioPlugin"]
