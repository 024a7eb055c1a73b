"""The LLM layer: one client for any OpenAI-compatible chat endpoint (client.py), its answer cache (cache.py) and
circuit breaker (breaker.py), and the embedded default, a local llama.cpp server over a packaged GGUF (local.py).

What the LLM is asked lives with the stage that asks (understand/llm.py); every caller keeps a rules path that
answers when the LLM is off, slow, failing or wrong.
"""
