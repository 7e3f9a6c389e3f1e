"""The engine under every command: candidates and their features, scoring through the score
cache on a backend (threads, processes, Ray), and fine-tuning a candidate as measured transfer."""
