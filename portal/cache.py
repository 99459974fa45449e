"""Django's Redis cache, keeping one redis-py client per connection pool.

Django builds a new `redis.Redis` client for every cache call; redis-py's client constructor
rebuilds its response-callback table each time, which costs more than the Redis round trip on
hot paths (token lookups, throttling). A client is thread-safe and only wraps the pool, so one
per pool is enough.
"""

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


def redis_client():
    """The default cache's redis-py client, for atomic commands the cache API lacks."""
    return cache._cache.get_client(write=True)
