using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Isolation.Internal;

/// <summary>
/// The keys one configuration section may hold for <typeparamref name="TOptions"/>, each with its own parser, so that a
/// bad value or a misspelled key becomes one line naming the key, the value and what is accepted (never a binder
/// exception, never silently ignored). Reads without reflection, so it is safe when trimmed or compiled ahead of time.
/// </summary>
/// <typeparam name="TOptions">The options the section binds to.</typeparam>
internal sealed class OptionsSchema<TOptions>
    where TOptions : class
{
    private const int MaxShownValueLength = 80;

    private readonly Dictionary<string, OptionsSetting<TOptions>> _settings;
    private readonly string[] _sections;
    private readonly bool _otherSectionsAllowed;
    private readonly string _known;

    /// <param name="settings">The values the section may hold.</param>
    /// <param name="sections">Sub-sections bound by their own schema (skipped here).</param>
    /// <param name="otherSectionsAllowed">
    /// Whether other sub-sections are left alone: true for <c>Isolation</c>, whose sub-sections also hold the settings of
    /// integrations and applications (<c>Isolation:Redis</c>); a misspelled <em>value</em> is reported either way.
    /// </param>
    public OptionsSchema(OptionsSetting<TOptions>[] settings, string[] sections, bool otherSectionsAllowed)
    {
        _settings = new Dictionary<string, OptionsSetting<TOptions>>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in settings)
        {
            _settings.Add(setting.Name, setting);
        }

        _sections = sections;
        _otherSectionsAllowed = otherSectionsAllowed;
        var known = string.Join(", ", settings.Select(s => s.Name));
        _known = sections.Length == 0 ? known : known + " and the sections " + string.Join(", ", sections);
    }

    /// <summary>Sets every readable value of <paramref name="section"/> on <paramref name="options"/>; adds a line per problem to <paramref name="failures"/>.</summary>
    public void Read(IConfiguration section, TOptions options, List<string>? failures)
    {
        foreach (var child in section.GetChildren())
        {
            var isSection = child.GetChildren().Any();
            if (_settings.TryGetValue(child.Key, out var setting))
            {
                if (isSection)
                {
                    failures?.Add($"{child.Path} is a section, but {setting.Name} takes one value: {setting.Accepted}");
                }
                else if (!string.IsNullOrWhiteSpace(child.Value) && !setting.TryApply(child.Value.Trim(), options))
                {
                    failures?.Add($"{child.Path} is '{Shorten(child.Value)}', which is not {setting.Kind}. {setting.Accepted}");
                }

                // An empty value leaves the option as it was (its default, or what code configured).
                continue;
            }

            if (!isSection && child.Value is null)
            {
                // A key without a value (JSON null) sets nothing, spelled right or not.
                continue;
            }

            if (Array.Exists(_sections, s => string.Equals(s, child.Key, StringComparison.OrdinalIgnoreCase)) || (isSection && _otherSectionsAllowed))
            {
                continue;
            }

            var closest = Closest(child.Key);
            failures?.Add(
                $"{child.Path} is not an option of {SectionName(section)}; it would be ignored. " +
                (closest is null ? string.Empty : $"Did you mean {closest}? ") +
                $"The options are {_known}.");
        }
    }

    private static string SectionName(IConfiguration section) => section is IConfigurationSection named && named.Path.Length > 0 ? named.Path : "this section";

    private static string Shorten(string value)
        => value.Length <= MaxShownValueLength ? value : value[..MaxShownValueLength] + "… (" + value.Length.ToString(CultureInfo.InvariantCulture) + " characters)";

    private string? Closest(string key)
    {
        string? best = null;
        var bestDistance = 3; // at most two edits away, or it is a guess rather than a typo
        foreach (var name in _settings.Keys.Concat(_sections))
        {
            var distance = Distance(key.ToUpperInvariant(), name.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = name;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Levenshtein distance; keys are short, so the quadratic table is fine at startup.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
