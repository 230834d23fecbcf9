using System.Globalization;

namespace Isolation.Internal;

/// <summary>One key of an <see cref="OptionsSchema{TOptions}"/>: its name, what kind of value it takes, and its parser.</summary>
/// <typeparam name="TOptions">The options the key sets.</typeparam>
internal sealed class OptionsSetting<TOptions>
    where TOptions : class
{
    private readonly Func<string, TOptions, bool> _tryApply;

    private OptionsSetting(string name, string kind, string accepted, Func<string, TOptions, bool> tryApply)
    {
        Name = name;
        Kind = kind;
        Accepted = accepted;
        _tryApply = tryApply;
    }

    /// <summary>Gets the key, as documented (matched ignoring case, like every configuration key).</summary>
    public string Name { get; }

    /// <summary>Gets what the value must be, for "which is not …": "a mode", "a whole number", "a time span".</summary>
    public string Kind { get; }

    /// <summary>Gets the sentence that says what is accepted.</summary>
    public string Accepted { get; }

    public bool TryApply(string value, TOptions options) => _tryApply(value, options);

    /// <summary>An enum value by name (any case) or by the number of a defined member; never a combination.</summary>
    public static OptionsSetting<TOptions> Enum<TEnum>(string name, string kind, Action<TOptions, TEnum> set)
        where TEnum : struct, System.Enum
    {
        var names = System.Enum.GetNames<TEnum>();
        var accepted = "Use " + string.Join(", ", names[..^1]) + " or " + names[^1] + ".";
        return new(name, kind, accepted, (value, options) =>
        {
            if (value.Contains(',', StringComparison.Ordinal) || !System.Enum.TryParse<TEnum>(value, ignoreCase: true, out var parsed) || !System.Enum.IsDefined(parsed))
            {
                return false;
            }

            set(options, parsed);
            return true;
        });
    }

    /// <summary>A whole number; the range is checked by the options' validator, which names it too.</summary>
    public static OptionsSetting<TOptions> Int32(string name, string range, Action<TOptions, int> set)
        => new(name, "a whole number", "Use a whole number " + range + ".", (value, options) =>
        {
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                return false;
            }

            set(options, parsed);
            return true;
        });

    /// <summary>A <see cref="TimeSpan"/> in the invariant <c>[d.]hh:mm[:ss[.fffffff]]</c> form; a bare number is refused.</summary>
    public static OptionsSetting<TOptions> TimeSpan(string name, string range, Action<TOptions, TimeSpan> set)
        => new(name, "a time span", "Use [d.]hh:mm:ss, e.g. 00:00:30 for 30 seconds; " + range + ".", (value, options) =>
        {
            // A bare number would parse as days ("10" is ten days, not ten seconds): require the hh:mm:ss form.
            if (!value.Contains(':', StringComparison.Ordinal) || !System.TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed))
            {
                return false;
            }

            set(options, parsed);
            return true;
        });

    /// <summary>Any text.</summary>
    public static OptionsSetting<TOptions> Text(string name, string accepted, Action<TOptions, string> set)
        => new(name, "text", accepted, (value, options) =>
        {
            set(options, value);
            return true;
        });

    /// <summary>A key that configuration cannot set (an object); a value for it is reported, saying how to set it in code.</summary>
    public static OptionsSetting<TOptions> CodeOnly(string name, string accepted)
        => new(name, "something configuration can set", accepted, static (_, _) => false);
}
