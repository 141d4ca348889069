"""The web app: Answer -> screen. ``app`` lays out and wires the Blocks, ``actions`` handles the
events, ``render`` turns records into escaped HTML, ``style`` holds its CSS and card script,
``library`` lists the indexed documents and checks uploads."""
