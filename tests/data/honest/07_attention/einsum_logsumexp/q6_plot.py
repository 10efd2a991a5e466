
import matplotlib.pyplot as plt
figure, axes = plt.subplots()
image = axes.matshow(reversal_weights, cmap="Greys")
axes.set_xticks(range(6), source_tokens)
axes.set_yticks(range(5), output_tokens)
figure.colorbar(image)
plt.show()
