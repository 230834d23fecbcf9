using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Isolation.Internal;

/// <summary>
/// Binds <typeparamref name="TOptions"/> from a configuration section through its <see cref="OptionsSchema{TOptions}"/>,
/// and reports what could not be read as validation failures, so a bad value surfaces as an
/// <see cref="OptionsValidationException"/> at startup (with <c>ValidateOnStart</c>) next to the range checks.
/// </summary>
/// <typeparam name="TOptions">The options.</typeparam>
internal sealed class ConfigurationOptions<TOptions> : IConfigureOptions<TOptions>, IValidateOptions<TOptions>
    where TOptions : class, new()
{
    private readonly IConfiguration _section;
    private readonly OptionsSchema<TOptions> _schema;

    public ConfigurationOptions(IConfiguration section, OptionsSchema<TOptions> schema)
    {
        _section = section;
        _schema = schema;
    }

    public void Configure(TOptions options) => _schema.Read(_section, options, failures: null);

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (name is not null && name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        // Read again into a scratch instance: stateless, so a reload or a second options instance sees the same failures.
        var failures = new List<string>();
        _schema.Read(_section, new TOptions(), failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
