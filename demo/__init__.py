"""The Gradio demo: fill a MIDI file in the browser and hear it."""
