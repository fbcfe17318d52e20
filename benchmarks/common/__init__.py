"""What more than one benchmark uses: paths, scikit-image stills, generated-block updates in docs."""
