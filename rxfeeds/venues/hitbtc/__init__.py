"""HitBTC: socket API v2 (:mod:`.codec`, :mod:`.client` ``HitBTC``) and v3 (:mod:`.codec_v3`,
:mod:`.client_v3` ``HitBTCV3``).  Error codes are typed in :mod:`.errors`.
"""
